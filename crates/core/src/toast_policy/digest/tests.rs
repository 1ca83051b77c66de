//! The digest: what it counts, what it says in both languages, and when it comes.

use super::*;
