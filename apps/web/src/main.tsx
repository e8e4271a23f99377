import "./styles.css";
import { render } from "preact";
import { Store } from "./lib/store.js";
import { StoreContext } from "./lib/use-store.js";
import { App } from "./views/App.js";

// Same origin as the page: the session cookie srv set at login authenticates the socket.
const store = new Store(`${location.origin.replace(/^http/, "ws")}/ws`);
store.start();

render(
  <StoreContext.Provider value={store}>
    <App />
  </StoreContext.Provider>,
  document.getElementById("app") as HTMLElement,
);
