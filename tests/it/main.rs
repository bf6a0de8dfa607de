//! The integration suite: one binary, real components, every upstream faked on 127.0.0.1.

mod support;

mod bot_process;
mod claude_client;
mod console;
mod engine;
mod fake_telegram;
mod startup;
mod telegram;
mod voice;
