SELECT b.block_kind, b.pattern_key, b.reason
FROM es_block_list b
WHERE (b.block_kind = 'SENDER'
       AND :sender_key LIKE REPLACE(REPLACE(REPLACE(REPLACE(b.pattern_key, '!', '!!'), '%', '!%'), '_', '!_'), '*', '%') ESCAPE '!')
   OR (b.block_kind = 'DOMAIN'
       AND (b.pattern_key = :sender_domain
            OR SUBSTR(:sender_domain, -LENGTH(b.pattern_key) - 1) = '.' || b.pattern_key))
ORDER BY b.block_kind, b.pattern_key
