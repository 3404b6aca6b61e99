INSERT INTO es_billing (node_id, billing_kind, account_id, address, message_guid, size_bytes, recipients, created_at)
VALUES (:node_id, :billing_kind, :account_id, :address, :message_guid, :size_bytes, :recipients, :created_at)
