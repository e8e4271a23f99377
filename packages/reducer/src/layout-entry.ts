// `@agentmux/reducer/layout`: the tile-layout algebra and a tab's layout fold, without the rest
// of the reducer. It loads no schema (zod) at run time, so a browser page can fold layout
// events exactly as srv does.
export * as layout from "./layout/index.js";
export {
  applyLayoutEvent,
  EMPTY_TAB_LAYOUT,
  fromSlices,
  isEmptyLayout,
  layoutEventTab,
  slicesOf,
  type TabLayout,
} from "./tab-layout.js";
