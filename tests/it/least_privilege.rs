//! Least privilege: `database.admin_url` (a superuser here) migrates and sets up; notebox
//! serves as a plain app role that cannot create roles or databases, and everything a user
//! does still works: sign-up, login, a PowerSync token, an upload.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use sqlx::PgPool;

use crate::binary::{free_port, notebox};
use crate::helpers::{
    KillOnPanic, SETUP_TOKEN, allow_first_signup, config_for, drop_powersync_objects, unique,
};

fn app_url(pool: &PgPool, role: &str, password: &str) -> String {
    let mut url = url::Url::parse(&crate::helpers::url_of(pool)).unwrap();
    url.set_username(role).unwrap();
    url.set_password(Some(password)).unwrap();
    url.to_string()
}

async fn until_ready(port: u16, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(response) = reqwest::get(format!("http://127.0.0.1:{port}/readyz")).await
            && response.status().is_success()
        {
            return;
        }
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            use std::io::Read;
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut stderr)
                .unwrap();
            panic!("notebox exited with {status}:\n{stderr}");
        }
        assert!(
            Instant::now() < deadline,
            "notebox was not ready within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

async fn drop_role(pool: &PgPool, role: &str) {
    for sql in [
        format!("drop owned by \"{role}\""),
        format!("drop role if exists \"{role}\""),
    ] {
        let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(pool).await;
    }
}

/// Sign-up, login, token and an upload through a notebox serving on `port`.
async fn a_user_gets_through(port: u16, pool: &PgPool) {
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    allow_first_signup(pool).await;
    let signup = http
        .post(format!("{base}/api/auth/signup"))
        .json(&json!({"email": "ada@example.org", "password": "correct horse battery", "setup_token": SETUP_TOKEN}))
        .send()
        .await
        .unwrap();
    assert_eq!(signup.status(), 201, "{}", signup.text().await.unwrap());
    let login = http
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"email": "ada@example.org", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let session = login.json::<serde_json::Value>().await.unwrap()["session_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = http
        .get(format!("{base}/api/auth/token"))
        .bearer_auth(&session)
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 200, "{}", token.text().await.unwrap());
    let token = token.json::<serde_json::Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let note = uuid::Uuid::new_v4();
    let upload = http
        .post(format!("{base}/api/data"))
        .bearer_auth(&token)
        .json(
            &json!({"batch": [{"op": "PUT", "type": "notes", "id": note, "tx_id": 1,
                                  "data": {"title": "as the app role"}}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(upload.status(), 200, "{}", upload.text().await.unwrap());
    let title: String = sqlx::query_scalar("select title from notes where id = $1")
        .bind(note)
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(title, "as the app role");
    // A refused lone PUT undoes itself through notebox_refused(), which the role may call.
    let theirs: uuid::Uuid = sqlx::query_scalar(
        "with u as (insert into users (email, password_hash) values ('bob@example.org', 'x') returning id) \
         insert into notes (id, owner_id) select gen_random_uuid(), id from u returning id",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    let refused = http
        .post(format!("{base}/api/data"))
        .bearer_auth(&token)
        .json(&json!({"batch": [
            {"op": "PUT", "type": "notes", "id": uuid::Uuid::new_v4(), "tx_id": 2, "data": {"title": "undone"}},
            {"op": "PUT", "type": "notes", "id": theirs, "tx_id": 2, "data": {"title": "not mine"}}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 200);
    let result = &refused.json::<serde_json::Value>().await.unwrap()["results"][0];
    assert_eq!(result["code"], "NOT_OWNER", "{result}");
    let undone: i64 = sqlx::query_scalar("select count(*) from notes where title = 'undone'")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(undone, 0);
}

/// The role the test made: `migrate` with the admin URL grants it the app tables; `serve`
/// then runs with the app URL only (no admin URL, no migration on start).
#[sqlx::test(migrations = false)]
async fn serves_as_an_app_role_after_an_admin_migrates(pool: PgPool) {
    let config = config_for(&pool);
    let admin = config.database.url.expose().to_owned();
    let role = unique("app");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "create role {role} login password 'app-password'"
    )))
    .execute(&pool)
    .await
    .unwrap();
    let app = app_url(&pool, &role, "app-password");

    let migrate = notebox(&config)
        .args(["migrate"])
        .env("NOTEBOX_DATABASE__URL", &app)
        .env("NOTEBOX_DATABASE__ADMIN_URL", &admin)
        .env("NOTEBOX_LOG__LEVEL", "off")
        .output()
        .unwrap();
    let migrate_out = String::from_utf8_lossy(&migrate.stdout).into_owned();
    assert!(
        migrate.status.success(),
        "{migrate_out}{}",
        String::from_utf8_lossy(&migrate.stderr)
    );
    assert!(
        migrate_out.contains(&format!("allowed app role \"{role}\"")),
        "{migrate_out}"
    );

    let port = free_port();
    let mut child = notebox(&config)
        .args(["serve"])
        .env("NOTEBOX_DATABASE__URL", &app)
        .env("NOTEBOX_DATABASE__MIGRATE_ON_START", "false")
        .env("NOTEBOX_SERVER__BIND", format!("127.0.0.1:{port}"))
        .env("NOTEBOX_LOG__LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _kill = KillOnPanic::new(&child);
    until_ready(port, &mut child).await;
    a_user_gets_through(port, &pool).await;
    stop(child);

    let check = |url: &str| {
        let output = notebox(&config)
            .args(["check", "--postgres-only"])
            .env("NOTEBOX_DATABASE__URL", url)
            .env("NOTEBOX_LOG__LEVEL", "off")
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let as_app = check(&app);
    let as_superuser = check(&admin);
    drop_powersync_objects(&pool, &config).await;
    drop_role(&pool, &role).await;
    assert!(
        as_app.contains("serving role") && !as_app.contains("WARN serving role"),
        "{as_app}"
    );
    assert!(
        as_superuser.contains("WARN serving role") && as_superuser.contains("superuser"),
        "{as_superuser}"
    );
}

/// The compose path: the app role does not exist yet; `serve` with the admin URL creates it
/// (LOGIN only) with the app URL's password, grants it the tables, and serves as it.
#[sqlx::test(migrations = false)]
async fn serve_with_an_admin_url_creates_the_app_role(pool: PgPool) {
    let config = config_for(&pool);
    let admin = config.database.url.expose().to_owned();
    let role = unique("app");
    let app = app_url(&pool, &role, "pa:ss/w@rd");
    let port = free_port();
    let mut child = notebox(&config)
        .args(["serve"])
        .env("NOTEBOX_DATABASE__URL", &app)
        .env("NOTEBOX_DATABASE__ADMIN_URL", &admin)
        .env("NOTEBOX_SERVER__BIND", format!("127.0.0.1:{port}"))
        .env("NOTEBOX_LOG__LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _kill = KillOnPanic::new(&child);
    until_ready(port, &mut child).await;
    let serving_as: Vec<String> = sqlx::query_scalar(
        "select usename::text from pg_stat_activity where datname = current_database() and usename = $1",
    )
    .bind(&role)
    .fetch_all(&pool)
    .await
    .unwrap();
    a_user_gets_through(port, &pool).await;
    stop(child);
    let attributes: Option<(bool, bool, bool, bool)> = sqlx::query_as(
        "select rolsuper, rolcreaterole, rolcreatedb, rolcanlogin from pg_roles where rolname = $1",
    )
    .bind(&role)
    .fetch_optional(&pool)
    .await
    .unwrap();
    drop_powersync_objects(&pool, &config).await;
    drop_role(&pool, &role).await;
    assert_eq!(attributes, Some((false, false, false, true)));
    assert!(!serving_as.is_empty(), "the pool connects as {role}");
}
