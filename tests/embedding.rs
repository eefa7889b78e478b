//! The embedding example (`host/examples/embed.rs`) as an application would
//! run it: its own route and the mounted backup routes answer over real
//! HTTP on loopback, and a backup made through them lands in the tenant.

mod support;

use serde_json::{Value, json};

#[allow(dead_code)]
#[path = "../host/examples/embed.rs"]
mod embed_example;

const PASSWORD: &str = "embedded-root-password";

#[test]
fn the_embedding_example_serves_its_own_route_and_the_backup_routes() {
    // SAFETY: this binary's only test sets the variable before it starts
    // any thread; the tenant's first start reads it.
    unsafe { std::env::set_var("KINESIS_ROOT_PASSWORD", PASSWORD) };
    let tenant = support::Tenant::new();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let base = runtime.block_on(async {
        let app =
            embed_example::host_application(tenant.root()).await.expect("the plugin loads inside the application");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}")
    });

    let client = reqwest::blocking::Client::new();
    let hello = client.get(format!("{base}/hello")).send().unwrap();
    assert_eq!(hello.text().unwrap(), "hello from the host application");

    let login: Value = client
        .post(format!("{base}/user/login"))
        .json(&json!({"auth_data": "root", "password": PASSWORD}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(login["status"], 200, "{login}");
    let token = login["token"].as_str().unwrap();

    let created: Value = client
        .post(format!("{base}/backup/create"))
        .bearer_auth(token)
        .json(&json!({"uid": 1, "backup": {"description": "from the embedded routes"}}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(created["status"], 200, "{created}");
    let name = created["backup"]["name"].as_str().unwrap();
    assert!(tenant.dirs.backups.join(name).is_file(), "the archive is in the tenant's backups/");

    let listed: Value = client
        .get(format!("{base}/backup/fetch?uid=1&limit=10&offset=0"))
        .bearer_auth(token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(listed["amount"], 1, "{listed}");
    drop(runtime);
}
