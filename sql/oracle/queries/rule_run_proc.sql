CALL es_rule_run_proc(:proc_name, :folder_id, :msg_uid, :param1, :param2)
