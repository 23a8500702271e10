// The few building blocks every page uses: htm bound to Preact, and Preact's hooks.
import { h, render, Fragment } from "./vendor/preact.module.js";
import htm from "./vendor/htm.module.js";

export { h, render, Fragment };
export {
  useState,
  useEffect,
  useRef,
  useMemo,
  useCallback,
  useReducer,
} from "./vendor/hooks.module.js";
export const html = htm.bind(h);
