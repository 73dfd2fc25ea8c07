#![allow(dead_code)]
pub mod bot;
pub mod db;
pub mod journeys;
