//! The integration suite: one binary, real components, every upstream faked on 127.0.0.1.

mod support;

mod bot_process;
mod claude_client;
mod consent;
mod console;
mod console_pty;
mod desk;
mod desk_browser;
mod desk_studies;
mod drafts;
mod durability;
mod engine;
mod env_example;
mod layers;
mod models;
mod offline;
mod operations;
mod owner;
mod postgres_bot;
mod postgres_cli;
mod postgres_desk;
mod replicas;
mod report;
mod retention;
mod startup;
mod store_conformance;
mod studies;
mod telegram;
mod telemetry;
mod voice;
mod voice_chat;
mod webhook;
