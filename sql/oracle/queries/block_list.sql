SELECT b.block_kind, b.pattern_key, b.reason, b.created_at
FROM es_block_list b
WHERE b.block_kind = :block_kind
ORDER BY b.pattern_key
