// OpenBLAS's CBLAS, plus reference LAPACKE (liblapacke-dev), whose LAPACK calls resolve to
// OpenBLAS's liblapack.so.3 through Debian's alternatives.
#include <cblas.h>
#include <lapacke.h>

// OpenBLAS threading control; declared in OpenBLAS's cblas.h as well, repeated here so the
// module does not depend on which cblas.h the alternatives system picked.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_corename(void);
