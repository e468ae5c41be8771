//! Orientations: the records and their log, the lists (received, sent, a person's), the magic
//! links of receivers without an account, and the territory's delays and notices. The status
//! changes only through [`change`], a conditional update on the row's version: of two people
//! acting at once, the second one's update matches nothing and they are told what happened.

mod links;
mod lists;
mod notices;
mod records;

pub use links::*;
pub use lists::*;
pub use notices::*;
pub use records::*;
