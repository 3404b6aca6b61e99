UPDATE es_community SET net_protocol = :net_protocol, description = :description WHERE community_id = :community_id
