INSERT INTO es_block_list (block_kind, pattern_key, reason, created_at)
VALUES (:block_kind, :pattern_key, :reason, :created_at)
