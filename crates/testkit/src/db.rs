//! A fresh PostgreSQL database per test, dropped when the value is: at the end of the test,
//! and also when the test panics (unwinding runs `Drop`), so no database outlives a failure.

use sqlx::{Connection, PgConnection};

use crate::admin_url;

/// A database that exists for one test (`gts_test_<random>`).
pub struct TestDatabase {
    name: String,
    url: String,
    dropped: bool,
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
            dropped: false,
        }
    }

    /// The URL of this database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Drops the database now (terminating leftover connections), for a test that wants
    /// the drop to have happened before it goes on.
    pub async fn drop_now(mut self) {
        drop_database(&self.name).await;
        self.dropped = true;
    }
}

async fn drop_database(name: &str) {
    if let Ok(mut conn) = PgConnection::connect(&admin_url()).await {
        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await;
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        let name = self.name.clone();
        // `Drop` may run inside the test's runtime, which must not be blocked on: the drop
        // runs on a thread of its own, with a runtime of its own, and is waited for.
        let dropper = std::thread::spawn(move || {
            if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                runtime.block_on(drop_database(&name));
            }
        });
        let _ = dropper.join();
    }
}
