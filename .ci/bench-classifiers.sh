# `make bench` section: classifiers (sourced by .ci/bench; uses bench_row, wanted, table_header).
