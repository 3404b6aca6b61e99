DELETE FROM es_folder WHERE owner_account_id = :account_id
