/*
 * fault.c - the fault-injection countdown (fault.h): off unless a test
 * arms it.
 */
#include "fault.h"

unsigned long pmfs_fault_countdown;
unsigned long pmfs_fault_passed;
unsigned long pmfs_fault_eio_countdown;
unsigned long pmfs_fault_eio_passed;
