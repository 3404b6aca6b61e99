SELECT 'domain', qualified_name FROM es_domain WHERE dcn_node_id = :node_id
UNION ALL
SELECT 'sponsored node', node_name FROM es_node WHERE sponsor_node_id = :node_id
UNION ALL
SELECT 'process', type_name FROM es_process WHERE node_id = :node_id
