//! `notebox user invite`, `user invitations`, `user uninvite`: the real binary's links work.

use axum::http::StatusCode;
use sqlx::PgPool;

use crate::helpers::{config_for, get};
use crate::invitations::{closed_signup, role_of, token_of};
use crate::notebooks::team;

#[sqlx::test]
async fn cli_invite_prints_a_working_link(pool: PgPool) {
    let t = team(&pool).await;
    let config = config_for(&pool);
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_notebox"))
            .env_clear()
            .env("NOTEBOX_DATABASE__URL", config.database.url.expose())
            .env("NOTEBOX_SERVER__PUBLIC_URL", "https://notes.example.org/")
            .args(args)
            .output()
            .unwrap()
    };
    let invited = run(&[
        "user",
        "invite",
        "eve@example.org",
        "--notebook",
        &t.notebook,
        "--role",
        "viewer",
    ]);
    assert!(
        invited.status.success(),
        "{}",
        String::from_utf8_lossy(&invited.stderr)
    );
    let url = String::from_utf8(invited.stdout).unwrap().trim().to_owned();
    assert!(
        url.starts_with("https://notes.example.org/?invitation="),
        "{url}"
    );

    let listed = run(&["user", "invitations"]);
    let listing = String::from_utf8(listed.stdout).unwrap();
    assert!(
        listing.contains("eve@example.org") && listing.contains("Plans"),
        "{listing}"
    );

    let signed_up = closed_signup(&pool, "eve@example.org", Some(&token_of(&url))).await;
    assert_eq!(
        signed_up.status,
        StatusCode::CREATED,
        "{:?}",
        signed_up.json()
    );
    assert_eq!(
        role_of(&pool, &t.notebook, "eve@example.org")
            .await
            .as_deref(),
        Some("viewer")
    );

    // Uninvite: the link stops working; unknown ids and bad input fail with one sentence.
    let second = run(&["user", "invite", "fay@example.org"]);
    let url = String::from_utf8(second.stdout).unwrap().trim().to_owned();
    let id: uuid::Uuid =
        sqlx::query_scalar("select id from invitations where email = 'fay@example.org'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(run(&["user", "uninvite", &id.to_string()]).status.success());
    assert_eq!(
        get(&t.app, &format!("/api/invitations/{}", token_of(&url)))
            .await
            .status,
        StatusCode::GONE
    );
    for args in [
        &["user", "uninvite", &uuid::Uuid::new_v4().to_string()][..],
        &["user", "invite", "ann@example.org"],
        &[
            "user",
            "invite",
            "x@example.org",
            "--notebook",
            &uuid::Uuid::new_v4().to_string(),
        ],
        &["user", "invite", "x@example.org", "--role", "owner"],
    ] {
        let failed = run(args);
        assert!(!failed.status.success(), "{args:?} should fail");
        assert!(!failed.stderr.is_empty());
    }
}
