/* Per-thread floating-point mode: flush denormals to zero (FTZ) and treat denormal inputs as zero
 * (DAZ). Denormal arithmetic is microcoded on x86 and made training steps ~15× slower once weights
 * got small (DESIGN §4). MXCSR is per thread, so each training thread sets it itself. */
#include "socialrm/nn.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define FTZ_DAZ 0x8040u /* MXCSR bits 15 (flush to zero) and 6 (denormals are zero) */

unsigned srm_fp_flush_denormals(void) {
    unsigned old = _mm_getcsr();
    _mm_setcsr(old | FTZ_DAZ);
    return old;
}

void srm_fp_restore(unsigned previous) { _mm_setcsr(previous); }
#else
unsigned srm_fp_flush_denormals(void) { return 0; }
void srm_fp_restore(unsigned previous) { (void)previous; }
#endif
