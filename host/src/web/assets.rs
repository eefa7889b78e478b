//! The stylesheet and scripts of the pages, embedded in the binary and served
//! at `/web/assets/NAME`. No build step: the files are served as written.

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

use super::error::WebError;

/// One embedded file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";

const ASSETS: &[Asset] = &[
    Asset { name: "style.css", content_type: "text/css; charset=utf-8", body: include_str!("assets/style.css") },
    Asset { name: "app.js", content_type: JAVASCRIPT, body: include_str!("assets/app.js") },
    Asset { name: "backups.js", content_type: JAVASCRIPT, body: include_str!("assets/backups.js") },
    Asset { name: "schedules.js", content_type: JAVASCRIPT, body: include_str!("assets/schedules.js") },
    Asset { name: "cron.js", content_type: JAVASCRIPT, body: include_str!("assets/cron.js") },
    Asset { name: "activity.js", content_type: JAVASCRIPT, body: include_str!("assets/activity.js") },
    Asset { name: "favicon.svg", content_type: "image/svg+xml", body: include_str!("assets/favicon.svg") },
];

/// `GET /web/assets/{name}`: one embedded file, or 404.
pub async fn serve(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|asset| asset.name == name) {
        // "no-cache" lets a browser keep the file but check it is current,
        // so a new server version never runs against old scripts.
        Some(asset) => ([(CONTENT_TYPE, asset.content_type), (CACHE_CONTROL, "no-cache")], asset.body).into_response(),
        None => WebError::NotFound.into_response(),
    }
}
