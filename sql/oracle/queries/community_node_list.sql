SELECT cn.community_id, n.node_name
FROM es_community_node cn JOIN es_node n ON n.node_id = cn.node_id
ORDER BY cn.community_id, n.node_name
