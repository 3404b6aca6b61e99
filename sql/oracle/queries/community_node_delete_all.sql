DELETE FROM es_community_node WHERE community_id = :community_id
