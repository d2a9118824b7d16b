/* One place that decides which BLAS/LAPACK the core calls.
 *
 * By default the core links the OpenBLAS shipped in the scipy-openblas32 wheel, whose symbols carry
 * a `scipy_` prefix. Building with SOCIALRM_BLAS=system defines SRM_SYSTEM_BLAS and calls the
 * unprefixed symbols of a system OpenBLAS instead. Code calls only the srm_* names below. */
#ifndef SOCIALRM_BLAS_H
#define SOCIALRM_BLAS_H

#include <cblas.h>
#include <lapacke.h>

#ifdef SRM_SYSTEM_BLAS
#define SRM_BLAS_NAME(name) name
#else
#define SRM_BLAS_NAME(name) scipy_##name
#endif

#define srm_cblas_sgemm SRM_BLAS_NAME(cblas_sgemm)
#define srm_cblas_dgemm SRM_BLAS_NAME(cblas_dgemm)
#define srm_cblas_sgemv SRM_BLAS_NAME(cblas_sgemv)
#define srm_cblas_dgemv SRM_BLAS_NAME(cblas_dgemv)
#define srm_cblas_dsyrk SRM_BLAS_NAME(cblas_dsyrk)
#define srm_cblas_ssyrk SRM_BLAS_NAME(cblas_ssyrk)
#define srm_cblas_dtrsm SRM_BLAS_NAME(cblas_dtrsm)
#define srm_cblas_dtrmm SRM_BLAS_NAME(cblas_dtrmm)
#define srm_LAPACKE_dpotrf SRM_BLAS_NAME(LAPACKE_dpotrf)
#define srm_LAPACKE_dtrtri SRM_BLAS_NAME(LAPACKE_dtrtri)
#define srm_LAPACKE_spotrf SRM_BLAS_NAME(LAPACKE_spotrf)
#define srm_openblas_set_num_threads SRM_BLAS_NAME(openblas_set_num_threads)
#define srm_openblas_get_num_threads SRM_BLAS_NAME(openblas_get_num_threads)

#endif
