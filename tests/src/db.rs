//! A fresh PostgreSQL database per test, dropped when the test ends.

use sqlx::{Connection, PgConnection};

/// The admin URL tests create databases with.
pub fn admin_url() -> String {
    std::env::var("GTS_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://gts:gts@127.0.0.1:5432/gts".to_owned())
}

/// A database that exists for one test.
pub struct TestDatabase {
    name: String,
    url: String,
}

impl TestDatabase {
    /// Creates `gts_test_<random>` on the admin server.
    pub async fn create() -> Self {
        let admin = admin_url();
        let name = format!("gts_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::connect(&admin).await.unwrap_or_else(|e| {
            panic!("cannot reach the test PostgreSQL at {admin}: {e}; run deploy/local/test.sh")
        });
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let mut url: url::Url = admin.parse().expect("admin URL parses");
        url.set_path(&name);
        Self {
            name,
            url: url.to_string(),
        }
    }

    /// The URL of this database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Drops the database (terminating leftover connections).
    pub async fn drop_now(self) {
        if let Ok(mut conn) = PgConnection::connect(&admin_url()).await {
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            )))
            .execute(&mut conn)
            .await;
        }
    }
}
