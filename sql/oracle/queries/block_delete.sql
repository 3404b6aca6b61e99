DELETE FROM es_block_list WHERE block_kind = :block_kind AND pattern_key = :pattern_key
