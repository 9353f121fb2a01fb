"""What a process module is built from (see docs/ADDING_A_PROCESS.md)."""
