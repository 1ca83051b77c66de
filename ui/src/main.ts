// Entry point of the window's UI: mounts the app and connects it to the desktop shell.
import { mount } from "svelte";
import App from "./App.svelte";
import { app } from "./lib/app.svelte";
import "./app.css";

const target = document.getElementById("app");
if (target) {
  mount(App, { target });
  void app.start(navigator.languages.length > 0 ? navigator.languages : [navigator.language]).then(() => {
    document.body.dataset.ready = "true";
  });
}
