//! The OpenAPI document against the real server: `/openapi.json` is an
//! OpenAPI 3.1 document; every endpoint it names is called, for success and
//! for errors, and each real answer must have its status documented and
//! match the documented schema (a structural check of JSON Schema written
//! here: `$ref`, `type`, `properties`, `required`, no undocumented fields,
//! `items`, `oneOf`/`anyOf`/`allOf`, `enum`, `minimum` and date-time formats).
//! Every path and method of the document must be called at least once.
//! `/scalar` and its scripts are served by the binary.

mod support;

use std::collections::BTreeSet;

use serde_json::{Value, json};
use support::http::{Answer, Client, Server};

/// The problems of `value` against `schema` (empty when it matches).
fn check(doc: &Value, schema: &Value, value: &Value, at: &str, problems: &mut Vec<String>) {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let pointer = reference.strip_prefix('#').unwrap_or_else(|| panic!("a non-local $ref {reference}"));
        let target = doc.pointer(pointer).unwrap_or_else(|| panic!("{reference} is not in the document"));
        return check(doc, target, value, at, problems);
    }
    let passes = |candidate: &Value| {
        let mut found = Vec::new();
        check(doc, candidate, value, at, &mut found);
        found.is_empty()
    };
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for part in all {
            check_all_of_part(doc, part, value, at, problems);
        }
    }
    if let Some(one) = schema.get("oneOf").and_then(Value::as_array) {
        let matching = one.iter().filter(|candidate| passes(candidate)).count();
        if matching != 1 {
            problems.push(format!("{at}: {value} matches {matching} of the oneOf schemas, not one"));
        }
    }
    if let Some(any) = schema.get("anyOf").and_then(Value::as_array)
        && !any.iter().any(passes)
    {
        problems.push(format!("{at}: {value} matches none of the anyOf schemas"));
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        problems.push(format!("{at}: {value} is not one of {allowed:?}"));
    }
    if let Some(kind) = schema.get("type") {
        let kinds: Vec<&str> = match kind {
            Value::String(one) => vec![one.as_str()],
            Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
            other => panic!("{at}: a type that is neither a string nor a list: {other}"),
        };
        if !kinds.iter().any(|kind| is_of_type(value, kind)) {
            problems.push(format!("{at}: {value} is not of type {kinds:?}"));
            return;
        }
    }
    if schema.get("format").and_then(Value::as_str) == Some("date-time")
        && let Some(text) = value.as_str()
        && chrono::DateTime::parse_from_rfc3339(text).is_err()
    {
        problems.push(format!("{at}: {text:?} is not an RFC 3339 date-time"));
    }
    if let (Some(minimum), Some(number)) = (schema.get("minimum").and_then(Value::as_f64), value.as_f64())
        && number < minimum
    {
        problems.push(format!("{at}: {number} is below the minimum {minimum}"));
    }
    if let (Some(items), Some(elements)) = (schema.get("items"), value.as_array()) {
        for (index, element) in elements.iter().enumerate() {
            check(doc, items, element, &format!("{at}[{index}]"), problems);
        }
    }
    if let Some(object) = value.as_object()
        && (schema.get("properties").is_some() || schema.get("required").is_some())
    {
        check_object(doc, schema, object, at, problems, false);
    }
}

/// A part of an `allOf`: its own fields are checked, and fields it does not
/// name are left to the other parts.
fn check_all_of_part(doc: &Value, part: &Value, value: &Value, at: &str, problems: &mut Vec<String>) {
    let resolved = match part.get("$ref").and_then(Value::as_str) {
        Some(reference) => doc.pointer(reference.trim_start_matches('#')).expect("a $ref in the document"),
        None => part,
    };
    match value.as_object() {
        Some(object) if resolved.get("properties").is_some() => {
            check_object(doc, resolved, object, at, problems, true);
        }
        _ => check(doc, resolved, value, at, problems),
    }
}

/// The fields of `object` against an object schema: every required field
/// present, every field documented (unless `open`), each matching its schema.
fn check_object(
    doc: &Value,
    schema: &Value,
    object: &serde_json::Map<String, Value>,
    at: &str,
    problems: &mut Vec<String>,
    open: bool,
) {
    let empty = serde_json::Map::new();
    let properties = schema.get("properties").and_then(Value::as_object).unwrap_or(&empty);
    for required in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
        let name = required.as_str().expect("required names are strings");
        if !object.contains_key(name) {
            problems.push(format!("{at}: the required field `{name}` is missing"));
        }
    }
    let extra_allowed =
        open || matches!(schema.get("additionalProperties"), Some(Value::Bool(true) | Value::Object(_)));
    for (name, field) in object {
        match properties.get(name) {
            Some(field_schema) => check(doc, field_schema, field, &format!("{at}.{name}"), problems),
            None if extra_allowed => {}
            None => problems.push(format!("{at}: the field `{name}` is not in the document")),
        }
    }
}

fn is_of_type(value: &Value, kind: &str) -> bool {
    match kind {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        other => panic!("an unknown type {other}"),
    }
}

/// Calls endpoints and checks each answer against the document.
struct Conformance {
    doc: Value,
    called: BTreeSet<(String, String)>,
}

impl Conformance {
    /// The answer's schema for `status`; fails when the status is not documented.
    fn schema(&self, method: &str, path: &str, status: u16) -> Value {
        let operation = &self.doc["paths"][path][method];
        assert!(operation.is_object(), "{method} {path} is not in the document");
        let response = &operation["responses"][status.to_string()];
        assert!(response.is_object(), "{method} {path} answered {status}, which the document does not list");
        response["content"]["application/json"]["schema"].clone()
    }

    /// Checks `answer` of `method path` (the document's path, with `{path}`
    /// for a file path).
    fn verify(&mut self, method: &str, path: &str, answer: &Answer) {
        self.called.insert((method.to_owned(), path.to_owned()));
        let schema = self.schema(method, path, answer.status);
        assert!(!schema.is_null(), "{method} {path} {}: no JSON schema", answer.status);
        let mut problems = Vec::new();
        check(&self.doc, &schema, &answer.body, "answer", &mut problems);
        assert!(problems.is_empty(), "{method} {path} {}: {problems:#?}\n{}", answer.status, answer.body);
    }

    fn get(&mut self, client: &Client, path: &str, query: &str) -> Answer {
        let answer = client.get(&format!("{path}?{query}"));
        self.verify("get", path, &answer);
        answer
    }

    fn delete(&mut self, client: &Client, path: &str, query: &str) -> Answer {
        let answer = client.delete(&format!("{path}?{query}"));
        self.verify("delete", path, &answer);
        answer
    }

    fn post(&mut self, client: &Client, path: &str, body: Value) -> Answer {
        let answer = client.post(path, &body);
        self.verify("post", path, &answer);
        answer
    }

    /// POSTs `body`, an archive, to `/backup/upload?{query}`.
    fn upload(&mut self, client: &Client, query: &str, body: Vec<u8>) -> Answer {
        let answer =
            client.send_raw(client.request(reqwest::Method::POST, &format!("/backup/upload?{query}")).body(body));
        self.verify("post", "/backup/upload", &answer);
        answer
    }

    fn patch(&mut self, client: &Client, path: &str, body: Value) -> Answer {
        let answer = client.patch(path, &body);
        self.verify("patch", path, &answer);
        answer
    }
}

#[test]
fn every_endpoint_answers_as_the_openapi_document_says() {
    let tenant = support::Tenant::new();
    let server = Server::start(tenant.root());
    let anonymous = server.anonymous();
    let response = reqwest::blocking::get(format!("{}/openapi.json", anonymous.base)).expect("the server answers");
    assert_eq!(response.status(), 200);
    let doc: Value = response.json().expect("the document is JSON");
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1."), "{}", doc["openapi"]);
    let mut api = Conformance { doc, called: BTreeSet::new() };

    // Users: sign-in and its failures, a new user, and a user who is not ROOT.
    let root_password = support::http::ROOT_PASSWORD;
    api.post(&anonymous, "/user/login", json!({"auth_data": "root", "password": root_password}));
    assert_eq!(api.post(&anonymous, "/user/login", json!({"auth_data": "root", "password": "wrong!"})).status, 401);
    assert_eq!(api.post(&anonymous, "/user/login", json!({"auth_data": "root"})).status, 400);
    let root = server.root_client();
    let viewer_user = json!({"username": "vera", "password": "long enough", "role": "VIEWER"});
    assert_eq!(api.post(&root, "/user/create", json!({"uid": 1, "user": viewer_user})).status, 200);
    let bad_role = json!({"username": "emp", "password": "long enough", "role": "EMPEROR"});
    assert_eq!(api.post(&root, "/user/create", json!({"uid": 1, "user": bad_role})).status, 400);
    let viewer = server.sign_in("vera", "long enough");
    assert_eq!(api.get(&viewer, "/backup/fetch", "uid=2&limit=10&offset=0").status, 403);
    assert_eq!(api.get(&anonymous, "/backup/activity", "uid=1").status, 401);

    // Records.
    let record = json!({"uid": 1, "collection": "notes", "key": "a", "value": {"n": [1, "two", null]}});
    assert_eq!(api.post(&root, "/data/create", record).status, 200);
    assert_eq!(api.get(&root, "/data/fetch", "uid=1&collection=notes").status, 200);
    assert_eq!(api.delete(&root, "/data/delete", "uid=1&collection=notes&key=a").status, 200);
    assert_eq!(api.delete(&root, "/data/delete", "uid=1&collection=notes&key=a").status, 404);

    // Backups.
    let made = api.post(&root, "/backup/create", json!({"uid": 1, "backup": {"description": "first"}}));
    assert_eq!(made.status, 200);
    let id = made.body["backup"]["id"].as_u64().unwrap();
    let past = json!({"uid": 1, "backup": {"expiry": "2001-01-01T00:00:00Z"}});
    assert_eq!(api.post(&root, "/backup/create", past).status, 400);
    assert_eq!(api.get(&root, "/backup/fetch", "uid=1&limit=10&offset=0&filter=fir").status, 200);
    assert_eq!(api.get(&root, "/backup/fetch", "uid=1&limit=0&offset=0").status, 400);
    assert_eq!(api.get(&root, "/backup/fetch/one", &format!("uid=1&id={id}")).status, 200);
    assert_eq!(api.get(&root, "/backup/fetch/one", "uid=1&id=999").status, 404);
    let description = json!({"uid": 1, "id": id, "description": "renamed"});
    assert_eq!(api.patch(&root, "/backup/update/description", description).status, 200);
    let unknown = json!({"uid": 1, "id": 999, "description": "x"});
    assert_eq!(api.patch(&root, "/backup/update/description", unknown).status, 404);
    let expiry = json!({"uid": 1, "id": id, "expiry": "2099-01-01T00:00:00Z"});
    assert_eq!(api.patch(&root, "/backup/update/expiry", expiry).status, 200);
    assert_eq!(api.patch(&root, "/backup/update/expiry", json!({"uid": 1, "id": id, "expiry": null})).status, 200);
    assert_eq!(api.patch(&root, "/backup/update/expiry", json!({"uid": 1, "id": id})).status, 400);
    assert_eq!(api.get(&root, "/backup/verify", &format!("uid=1&id={id}")).status, 200);
    assert_eq!(api.get(&root, "/backup/verify", "uid=1&id=999").status, 404);
    assert_eq!(api.get(&root, "/backup/restore", &format!("uid=1&id={id}")).status, 200);
    assert_eq!(api.get(&root, "/backup/restore", "uid=1&id=999").status, 404);
    let activity = api.get(&root, "/backup/activity", "uid=1");
    let finished = activity.body["activity"]["finished"].as_array().unwrap();
    let kinds: Vec<&str> = finished.iter().filter_map(|op| op["kind"].as_str()).collect();
    assert!(kinds.contains(&"create") && kinds.contains(&"verify") && kinds.contains(&"restore"), "{kinds:?}");
    assert!(activity.body["activity"]["changes"].as_u64().unwrap() >= 3, "{}", activity.body);

    // The archive itself is not JSON; its failure is.
    api.called.insert(("get".to_owned(), "/backup/download".to_owned()));
    let download = root.request(reqwest::Method::GET, &format!("/backup/download?uid=1&id={id}")).send().unwrap();
    assert_eq!(download.status(), 200);
    let declared = &api.doc["paths"]["/backup/download"]["get"]["responses"]["200"]["content"];
    let content_type = download.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(declared.get(&content_type).is_some(), "{content_type} is not declared: {declared}");
    assert_eq!(api.get(&root, "/backup/download", "uid=1&id=999").status, 404);
    let archive = download.bytes().unwrap().to_vec();
    let name = made.body["backup"]["name"].as_str().unwrap().to_owned();

    // An upload's body is the archive; its answers are JSON.
    let exists = api.upload(&root, &format!("uid=1&name={name}"), archive.clone());
    assert_eq!(exists.status, 422, "a backup with its id exists: {}", exists.body);
    assert_eq!(api.upload(&root, "uid=1", archive.clone()).status, 400);
    assert_eq!(api.upload(&root, &format!("uid=1&name={name}"), b"not an archive".to_vec()).status, 422);
    // Without an offsite target there is nothing to retry.
    assert_eq!(api.post(&root, "/backup/offsite/retry", json!({"uid": 1, "id": id})).status, 400);

    let second = root.create_backup("second")["id"].as_u64().unwrap();
    assert_eq!(api.post(&root, "/backup/delete/bulk", json!({"uid": 1, "ids": [second, 999]})).status, 200);
    assert_eq!(api.post(&root, "/backup/delete/bulk", json!({"uid": 1, "ids": []})).status, 400);
    assert_eq!(api.delete(&root, "/backup/delete", &format!("uid=1&id={id}")).status, 200);
    assert_eq!(api.delete(&root, "/backup/delete", &format!("uid=1&id={id}")).status, 404);
    let uploaded = api.upload(&root, &format!("uid=1&name={name}&description=kept%20aside"), archive);
    assert_eq!(uploaded.status, 200, "{}", uploaded.body);
    assert_eq!(uploaded.body["backup"]["id"].as_u64(), Some(id), "the archive comes back as its own backup");

    // Schedules.
    let nightly = json!({"name": "nightly", "cron": "30 1 * * *", "expiry_hours": 168, "enabled": true});
    let created = api.post(&root, "/backup/schedule/create", json!({"uid": 1, "schedule": nightly}));
    assert_eq!(created.status, 200);
    let schedule = created.body["schedule"]["id"].as_u64().unwrap();
    let broken = json!({"name": "broken", "cron": "61 * * * *", "enabled": true});
    assert_eq!(api.post(&root, "/backup/schedule/create", json!({"uid": 1, "schedule": broken})).status, 400);
    assert_eq!(api.get(&root, "/backup/schedule/fetch", "uid=1&limit=10&offset=0").status, 200);
    let disable = json!({"uid": 1, "id": schedule, "schedule": {"enabled": false, "expiry_hours": null}});
    assert_eq!(api.patch(&root, "/backup/schedule/update", disable).status, 200);
    let nothing = json!({"uid": 1, "id": schedule, "schedule": {}});
    assert_eq!(api.patch(&root, "/backup/schedule/update", nothing).status, 400);
    assert_eq!(api.delete(&root, "/backup/schedule/delete", &format!("uid=1&id={schedule}")).status, 200);
    assert_eq!(api.delete(&root, "/backup/schedule/delete", &format!("uid=1&id={schedule}")).status, 404);

    // The tenant's files.
    let missing = anonymous.get("/public/css/missing.css");
    api.verify("get", "/public/{path}", &missing);
    let missing = anonymous.get("/translations/xx.json");
    api.verify("get", "/translations/{path}", &missing);

    let documented: BTreeSet<(String, String)> = api.doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, operations)| {
            operations.as_object().unwrap().keys().map(move |method| (method.clone(), path.clone()))
        })
        .collect();
    let uncalled: Vec<_> = documented.difference(&api.called).collect();
    assert!(uncalled.is_empty(), "documented but never called: {uncalled:?}");
}

#[test]
fn the_interactive_reference_is_served_by_the_binary() {
    let tenant = support::Tenant::new();
    let server = Server::start(tenant.root());
    let base = server.anonymous().base;
    let page = reqwest::blocking::get(format!("{base}/scalar")).unwrap();
    assert_eq!(page.status(), 200);
    let policy = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(policy.contains("script-src 'self'") && policy.contains("connect-src 'self'"), "{policy}");
    let html = page.text().unwrap();
    for (file, kind) in [("/scalar/reference.js", "text/javascript"), ("/scalar/reference.css", "text/css")] {
        assert!(html.contains(file), "{html}");
        let asset = reqwest::blocking::get(format!("{base}{file}")).unwrap();
        assert_eq!(asset.status(), 200, "{file}");
        assert!(asset.headers()["content-type"].to_str().unwrap().starts_with(kind));
        assert!(asset.text().unwrap().len() > 100, "{file} is empty");
    }
    assert!(!html.contains("https://"), "the page loads nothing from other sites: {html}");
}
