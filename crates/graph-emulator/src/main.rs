//! The `graph-emulator` binary.

fn main() {}
