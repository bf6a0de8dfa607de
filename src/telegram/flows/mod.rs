//! One file per flow: setup, commands, button presses, other messages.

pub mod callbacks;
pub mod commands;
pub mod messages;
pub mod setup;
