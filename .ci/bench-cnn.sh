# `make bench` section: cnn (sourced by .ci/bench; uses bench_row, wanted, table_header).
