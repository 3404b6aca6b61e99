INSERT INTO es_route (guid, from_community_id, to_community_id, via_community_id, route_cost, created_at)
VALUES (:guid, :from_community_id, :to_community_id, :via_community_id, :route_cost, :created_at)
RETURNING route_id INTO :route_id
