//! Test support: the platform stand-ins and a harness that runs the real encore app against
//! them on 127.0.0.1.
#![allow(dead_code)]

pub mod app;
pub mod discord;
pub mod solapi;
pub mod telegram;
