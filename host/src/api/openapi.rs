//! The OpenAPI 3.1 document of the JSON API, generated from the handlers'
//! request and answer types (`utoipa`), served at `/openapi.json`.

use std::sync::LazyLock;

use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{activity, backup, data, files, schedule, upload, user};

/// The API's OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Kinesis Backup HTTP API",
        description = "The JSON API of a Kinesis Backup server; one server serves one tenant. Every answer is a \
                       JSON object with `status` (the HTTP status as a number) and `message`, and payload fields \
                       named per endpoint. GET and DELETE take query parameters, POST and PATCH a JSON body; \
                       unknown fields are refused. Times are RFC 3339; answers give them in UTC. Sign in with \
                       `POST /user/login` and send `Authorization: Bearer <token>`; every call but the sign-in \
                       names the caller's user id in `uid`. The project's docs/http-api.md tells the whole story.",
        license(name = "MIT")
    ),
    paths(
        user::login,
        user::create,
        backup::create,
        backup::fetch,
        backup::fetch_one,
        backup::update_description,
        backup::update_expiry,
        backup::restore,
        backup::delete,
        backup::delete_bulk,
        backup::download,
        backup::verify,
        upload::upload,
        backup::offsite_retry,
        activity::activity,
        schedule::create,
        schedule::fetch,
        schedule::update,
        schedule::delete,
        data::create,
        data::fetch,
        data::delete,
        files::public,
        files::translations,
    ),
    modifiers(&Security),
    tags(
        (name = "users", description = "Signing in and creating users"),
        (name = "backups", description = "Backups: ROOT only"),
        (name = "schedules", description = "Recurring backups: ROOT only"),
        (name = "data", description = "A small records API for any signed-in user"),
        (name = "files", description = "The tenant's public files and translations"),
    )
)]
pub struct ApiDoc;

/// Adds the ways of signing in that the paths name.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The token of `POST /user/login`"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "web_session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "kinesis_session",
                "The web pages' session cookie; only together with the header `X-CSRF-Token` the pages embed",
            ))),
        );
    }
}

/// The document as JSON, made once.
static DOCUMENT: LazyLock<String> =
    LazyLock::new(|| ApiDoc::openapi().to_pretty_json().unwrap_or_else(|err| format!("{{\"error\": \"{err}\"}}")));

/// `GET /openapi.json`: the OpenAPI document.
pub async fn document() -> Response {
    ([(CONTENT_TYPE, "application/json")], DOCUMENT.as_str()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_openapi_3_1_with_every_route() {
        let doc: serde_json::Value = serde_json::from_str(&DOCUMENT).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
        let paths = doc["paths"].as_object().unwrap();
        let some = [
            "/user/login",
            "/backup/create",
            "/backup/upload",
            "/backup/offsite/retry",
            "/backup/activity",
            "/data/delete",
        ];
        for path in some {
            assert!(paths.contains_key(path), "{path} is missing");
        }
        assert_eq!(paths.len(), 24);
    }
}
