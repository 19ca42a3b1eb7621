# `make bench` section: valuation (sourced by .ci/bench; uses bench_row, wanted, table_header).
