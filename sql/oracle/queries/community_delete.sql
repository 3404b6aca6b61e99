DELETE FROM es_community WHERE community_id = :community_id
