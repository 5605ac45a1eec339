/* Cross-file pieces of the test support that the suites do not use. */
#ifndef DFT_PRIVATE_H
#define DFT_PRIVATE_H

/* Takes the per-test baselines of the value counters. */
void dft_values_rebase(void);

/* Clears the trace, the printed output and the report counts. */
void dft_capture_reset(void);

#endif
