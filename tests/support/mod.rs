#![allow(dead_code)]
pub mod binary;
pub mod bot;
pub mod db;
pub mod fanout;
pub mod journeys;
pub mod mts_link_fake;
pub mod russian_post_fake;
