/**
 * One canonical wire text per command and event variant: exact key order,
 * every defaulted field present. Parsing one and serializing it again must
 * give back the same text.
 */
const node =
  '{"id":"n1","flexDirection":"row","size":1,"children":[{"id":"n2","flexDirection":"column","size":50.5,"data":{"blockId":"b1","view":"term"}}],"custom":"kept"}';

export const COMMAND_EXAMPLES: Record<string, string> = {
  register: '{"cmd":"register","kind":"tool","pid":4242,"version":"0.1.0"}',
  ping: '{"cmd":"ping","nonce":7,"req_id":"r-1"}',
  goodbye: '{"cmd":"goodbye"}',
  get_srv_snapshot: '{"cmd":"get_srv_snapshot"}',
  get_events: '{"cmd":"get_events","since":12}',
  get_layout: '{"cmd":"get_layout","tab_id":"t1"}',
  list_messages: '{"cmd":"list_messages","limit":50}',
  create_workspace: '{"cmd":"create_workspace","name":"Main"}',
  delete_workspace: '{"cmd":"delete_workspace","workspace_id":"w1","force":false}',
  rename_workspace: '{"cmd":"rename_workspace","workspace_id":"w1","name":"Other"}',
  update_workspace_meta:
    '{"cmd":"update_workspace_meta","workspace_id":"w1","meta_patch":{"color":"red","p:*":true,"gone":null}}',
  create_tab: '{"cmd":"create_tab","workspace_id":"w1","name":""}',
  delete_tab: '{"cmd":"delete_tab","workspace_id":"w1","tab_id":"t1","force":true}',
  set_active_tab: '{"cmd":"set_active_tab","workspace_id":"w1","tab_id":"t1"}',
  reorder_tab: '{"cmd":"reorder_tab","workspace_id":"w1","tab_id":"t1","new_index":3}',
  reorder_tabs_bulk: '{"cmd":"reorder_tabs_bulk","workspace_id":"w1","tab_ids":["t2","t1"]}',
  rename_tab: '{"cmd":"rename_tab","tab_id":"t1","name":"logs"}',
  update_tab_meta: '{"cmd":"update_tab_meta","tab_id":"t1","meta_patch":{"pinned":true}}',
  move_tab: '{"cmd":"move_tab","tab_id":"t1","src_workspace_id":"w1","dst_workspace_id":"w2","dst_index":0}',
  create_block:
    '{"cmd":"create_block","tab_id":"t1","meta":{"view":"agent","agent:provider":"claude"},"tile":{"parent_id":null,"index":null,"focus_after":true,"magnify_after":false}}',
  delete_block: '{"cmd":"delete_block","tab_id":"t1","block_id":"b1"}',
  update_block_meta: '{"cmd":"update_block_meta","block_id":"b1","meta_patch":{"agent:name":"alice"}}',
  move_block: '{"cmd":"move_block","block_id":"b1","src_tab_id":"t1","dst_tab_id":"t2","dst_index":1}',
  create_window: '{"cmd":"create_window","window_id":"win1","workspace_id":"w1"}',
  close_window_internal: '{"cmd":"close_window_internal","window_id":"win1"}',
  switch_workspace: '{"cmd":"switch_workspace","window_id":"win1","workspace_id":"w2"}',
  update_window_meta: '{"cmd":"update_window_meta","window_id":"win1","meta_patch":{"x":10}}',
  set_focused_node: '{"cmd":"set_focused_node","tab_id":"t1","node_id":"n2"}',
  set_magnified_node: '{"cmd":"set_magnified_node","tab_id":"t1","node_id":""}',
  layout_insert_node: `{"cmd":"layout_insert_node","tab_id":"t1","node":${node},"parent_id":null,"index":null,"focus_after":true,"magnify_after":false,"correlation_id":"c1"}`,
  layout_insert_node_at_index: `{"cmd":"layout_insert_node_at_index","tab_id":"t1","node":${node},"index_arr":[0,1],"focus_after":false,"magnify_after":false,"correlation_id":""}`,
  layout_delete_node: '{"cmd":"layout_delete_node","tab_id":"t1","node_id":"n2","correlation_id":""}',
  layout_delete_node_by_block:
    '{"cmd":"layout_delete_node_by_block","tab_id":"t1","block_id":"b1","correlation_id":""}',
  layout_move_node:
    '{"cmd":"layout_move_node","tab_id":"t1","node_id":"n2","new_parent_id":"n1","index":0,"correlation_id":""}',
  layout_swap_nodes: '{"cmd":"layout_swap_nodes","tab_id":"t1","node1_id":"n2","node2_id":"n3","correlation_id":""}',
  layout_resize_nodes:
    '{"cmd":"layout_resize_nodes","tab_id":"t1","ops":[{"node_id":"n2","size":30},{"node_id":"n3","size":70}],"correlation_id":""}',
  layout_replace_node: `{"cmd":"layout_replace_node","tab_id":"t1","target_id":"n2","new_node":${node},"focus_after":true,"correlation_id":""}`,
  layout_split_horizontal: `{"cmd":"layout_split_horizontal","tab_id":"t1","target_id":"n2","new_node":${node},"position":"after","focus_after":true,"correlation_id":""}`,
  layout_split_vertical: `{"cmd":"layout_split_vertical","tab_id":"t1","target_id":"n2","new_node":${node},"position":"before","focus_after":false,"correlation_id":""}`,
  layout_clear: '{"cmd":"layout_clear","tab_id":"t1","correlation_id":""}',
  layout_set_tree: `{"cmd":"layout_set_tree","tab_id":"t1","new_tree":${node},"slices":{"leaforder":[{"nodeid":"n2","blockid":"b1"}],"focused_node_id":"n2"},"correlation_id":"c9"}`,
  layout_queue_backend_actions:
    '{"cmd":"layout_queue_backend_actions","tab_id":"t1","actions":[{"actiontype":"insert","blockid":"b1"}],"correlation_id":""}',
  agent_send: '{"cmd":"agent_send","block_id":"b1","message":"fix the failing test","req_id":"send-1"}',
  agent_interrupt: '{"cmd":"agent_interrupt","block_id":"b1"}',
  agent_stop: '{"cmd":"agent_stop","block_id":"b1","force":false}',
  agent_respond: '{"cmd":"agent_respond","block_id":"b1","request_id":"r1","decision":"deny","message":"not there"}',
  get_block_output: '{"cmd":"get_block_output","block_id":"b1","offset":0,"limit":65536}',
  list_agents: '{"cmd":"list_agents"}',
  subscribe_output: '{"cmd":"subscribe_output","block_ids":["b1","b2"]}',
  tear_off_tab: '{"cmd":"tear_off_tab","tab_id":"t2","req_id":"tear-1"}',
  tear_off_block: '{"cmd":"tear_off_block","block_id":"b1"}',
  promote_block_to_tab: '{"cmd":"promote_block_to_tab","block_id":"b1"}',
};

const busEvents: Record<string, string> = {
  registered: '{"event":"registered","client_id":1,"launcher_pid":999,"launcher_version":"0.1.0","version":3}',
  pong: '{"event":"pong","nonce":7,"version":4,"req_id":"r-1"}',
  error: '{"event":"error","code":"invalid_command","message":"workspace not found: w9","fatal":false,"version":5}',
  process_spawned: '{"event":"process_spawned","pid":4242,"kind":"tool","client_version":"0.1.0","version":1}',
  process_exited: '{"event":"process_exited","pid":4242,"code":0,"version":6}',
  lifecycle_phase_changed: '{"event":"lifecycle_phase_changed","from":"starting","to":"running","version":2}',
  srv_snapshot:
    '{"event":"srv_snapshot","lifecycle":"running","workspaces":[["w1","Main"]],"tabs":[["t1","w1","Tab 1"]],"active_tabs":[["w1","t1"]],"blocks":[["b1","t1"]],"version":9}',
  workspace_created: '{"event":"workspace_created","workspace_id":"w1","name":"Main","version":7}',
  workspace_deleted: '{"event":"workspace_deleted","workspace_id":"w1","block_ids":["b1"],"version":8}',
  workspace_renamed: '{"event":"workspace_renamed","workspace_id":"w1","name":"Other","version":8}',
  workspace_meta_updated:
    '{"event":"workspace_meta_updated","workspace_id":"w1","meta_patch":{"color":null},"version":8}',
  tab_created: '{"event":"tab_created","workspace_id":"w1","tab_id":"t1","name":"Tab 1","version":12}',
  tab_deleted: '{"event":"tab_deleted","workspace_id":"w1","tab_id":"t1","block_ids":[],"version":13}',
  active_tab_changed: '{"event":"active_tab_changed","workspace_id":"w1","tab_id":null,"version":14}',
  tab_reordered: '{"event":"tab_reordered","workspace_id":"w1","tab_id":"t1","new_index":1,"version":15}',
  tabs_reordered_bulk: '{"event":"tabs_reordered_bulk","workspace_id":"w1","tab_ids":["t2","t1"],"version":16}',
  tab_renamed: '{"event":"tab_renamed","tab_id":"t1","name":"logs","version":17}',
  tab_meta_updated: '{"event":"tab_meta_updated","tab_id":"t1","meta_patch":{"pinned":true},"version":18}',
  tab_moved:
    '{"event":"tab_moved","tab_id":"t1","src_workspace_id":"w1","dst_workspace_id":"w2","dst_index":0,"new_src_active_tab_id":"t2","new_dst_active_tab_id":"t1","version":19}',
  block_created: '{"event":"block_created","tab_id":"t1","block_id":"b1","meta":null,"version":20}',
  block_deleted: '{"event":"block_deleted","tab_id":"t1","block_id":"b1","version":21}',
  block_meta_updated: '{"event":"block_meta_updated","block_id":"b1","meta_patch":{"a":1},"version":22}',
  block_moved: '{"event":"block_moved","block_id":"b1","src_tab_id":"t1","dst_tab_id":"t2","dst_index":0,"version":23}',
  srv_window_opened: '{"event":"srv_window_opened","window_id":"win1","workspace_id":"w1","version":24}',
  srv_window_closed: '{"event":"srv_window_closed","window_id":"win1","version":25}',
  srv_window_workspace_changed:
    '{"event":"srv_window_workspace_changed","window_id":"win1","workspace_id":"w2","version":26}',
  window_meta_updated: '{"event":"window_meta_updated","window_id":"win1","meta_patch":{"x":1},"version":27}',
  focused_node_changed: '{"event":"focused_node_changed","tab_id":"t1","node_id":"n2","version":28}',
  magnified_node_changed: '{"event":"magnified_node_changed","tab_id":"t1","node_id":"","version":29}',
  layout_node_inserted: `{"event":"layout_node_inserted","tab_id":"t1","node":${node},"parent_id":"n0","index":2,"correlation_id":"c1","version":30}`,
  layout_node_inserted_at_index: `{"event":"layout_node_inserted_at_index","tab_id":"t1","node":${node},"index_arr":[0],"new_tree":${node},"correlation_id":"","version":31}`,
  layout_node_deleted:
    '{"event":"layout_node_deleted","tab_id":"t1","node_id":"n1","new_tree":null,"tree_cleared":true,"was_focused":true,"was_magnified":false,"correlation_id":"","version":32}',
  layout_node_moved: `{"event":"layout_node_moved","tab_id":"t1","node_id":"n2","new_parent_id":"n1","index":0,"new_tree":${node},"correlation_id":"","version":33}`,
  layout_nodes_swapped:
    '{"event":"layout_nodes_swapped","tab_id":"t1","node1_id":"n2","node2_id":"n3","new_tree":null,"correlation_id":"","version":34}',
  layout_nodes_resized:
    '{"event":"layout_nodes_resized","tab_id":"t1","ops":[{"node_id":"n2","size":40}],"new_tree":null,"correlation_id":"","version":35}',
  layout_node_replaced: `{"event":"layout_node_replaced","tab_id":"t1","target_id":"n2","new_node":${node},"new_tree":null,"correlation_id":"","version":36}`,
  layout_split_horizontal_applied: `{"event":"layout_split_horizontal_applied","tab_id":"t1","target_id":"n2","new_node":${node},"position":"after","new_tree":null,"correlation_id":"","version":37}`,
  layout_split_vertical_applied: `{"event":"layout_split_vertical_applied","tab_id":"t1","target_id":"n2","new_node":${node},"position":"before","new_tree":null,"correlation_id":"","version":38}`,
  layout_cleared: '{"event":"layout_cleared","tab_id":"t1","correlation_id":"","version":39}',
  layout_tree_replaced: `{"event":"layout_tree_replaced","tab_id":"t1","new_tree":${node},"slices":null,"correlation_id":"","version":40}`,
  layout_backend_actions_queued:
    '{"event":"layout_backend_actions_queued","tab_id":"t1","actions":[{"actiontype":"insert"}],"correlation_id":"","version":41}',
  saga_started: '{"event":"saga_started","saga_id":3,"name":"tear_off_block","version":42}',
  saga_completed: '{"event":"saga_completed","saga_id":3,"version":43}',
  saga_failed: '{"event":"saga_failed","saga_id":4,"reason":"tab not found","version":44}',
  agent_status:
    '{"event":"agent_status","block_id":"b1","status":"running","pid":5151,"exit_code":null,"turn_active":true,"session_id":"sess-1","needs_input":false,"usage":{"input_tokens":10,"output_tokens":20,"cache_creation_input_tokens":0,"cache_read_input_tokens":5,"cost_usd":0.0012},"requests":[{"request_id":"r1","tool":"Bash","input":{"command":"ls"}}],"fault":{"kind":"rate_limit","fatal":false,"message":"API call failed (rate_limit 429), retrying","resets_at":null,"stderr":["API Error: 429 rate_limit_error","retrying in 5s"]},"version":45}',
  block_output:
    '{"event":"block_output","block_id":"b1","offset":1024,"data":"{\\"type\\":\\"assistant\\"}\\n","version":0}',
};

export const EVENT_EXAMPLES: Record<string, string> = {
  ...busEvents,
  agent_list:
    '{"event":"agent_list","agents":[{"block_id":"b1","tab_id":"t1","workspace_id":"w1","meta":{"view":"agent","agent:name":"ada"},"status":null}],"version":46}',
  layout_state: `{"event":"layout_state","tab_id":"t1","new_tree":${node},"slices":{"focused_node_id":"n2","pending_backend_actions":[{"actiontype":"insert"}]},"version":46}`,
  message_list:
    '{"event":"message_list","messages":[{"message_id":"m1","from":"alice","to":"bob","cc":[],"body":"review please","created_at":"2026-11-30T04:00:00.000Z","state":"delivered","outcome":{"via":"echo"},"updated_at":"2026-11-30T04:00:01.000Z"}],"version":46}',
  event_list: `{"event":"event_list","events":[${busEvents.pong},${busEvents.tab_created}],"truncated":false,"more":false,"version":46}`,
};
