//! Claims on the Gateway queue, for the outbound SMTP gateway. Once claimed, an entry is
//! read and finished with the queue-agnostic functions of `store::delivery`.

use chrono::{DateTime, Utc};

use super::{q, Conn, StoreError};
use crate::binds;

/// Claims up to `batch_size` due GATEWAY entries of a node for `worker` until `lease_until`.
pub fn claim_batch(
    c: &mut Conn,
    node_id: i64,
    worker: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    batch_size: i64,
) -> Result<Vec<i64>, StoreError> {
    let candidates: Vec<i64> = c
        .query(
            &q::GATEWAY_CLAIM_CANDIDATES,
            &binds!["node_id" => node_id, "now" => now, "batch_size" => batch_size],
        )?
        .iter()
        .map(|r| r.i64(0))
        .collect::<Result<_, _>>()?;
    super::delivery::claim_each(c, &q::GATEWAY_CLAIM, &candidates, worker, now, lease_until)
}
