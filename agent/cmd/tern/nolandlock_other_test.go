//go:build !linux

package main

const envNoLandlockExec = "TERN_TEST_EXEC_WITHOUT_LANDLOCK"

// execWithoutLandlock is never reached off Linux: only the Linux tests set
// envNoLandlockExec.
func execWithoutLandlock(string) { panic("Landlock exists only on Linux") }
