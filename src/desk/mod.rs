//! The operator's desk: a small web site served by the bot, where the people who run it follow
//! every interview the experts agreed to show, read and download the reports, and see what the
//! bot costs. Server-rendered HTML with one stylesheet, no JavaScript, nothing fetched from
//! elsewhere, so it works on a phone and with no internet.
//!
//! | module | what it holds |
//! |---|---|
//! | [`index`] | one summary row per interview, built by a scan and kept from the store's announcements |

pub mod index;

pub use index::{Index, Row, State};
