/**
 * Phone-layout checks for the e2e tests: phone viewports, and what a person would see go wrong on
 * them — a page wider than the screen, something sticking out sideways, a control too small to touch,
 * a camera picture that does not fill the width.
 */
import type { Page } from 'puppeteer-core';
/** A viewport to check the layout at; `mobile` emulates a phone (meta viewport, touch). */
export interface Viewport {
  name: string;
  width: number;
  height: number;
  mobile: boolean;
}

/** Small and large phones, portrait and landscape. */
export const PHONE_VIEWPORTS: readonly Viewport[] = [
  { name: '360x640', width: 360, height: 640, mobile: true },
  { name: '412x915', width: 412, height: 915, mobile: true },
  { name: '640x360', width: 640, height: 360, mobile: true },
  { name: '915x412', width: 915, height: 412, mobile: true },
];

/** Resizes the page to `v`, with touch and the mobile meta-viewport handling when `v.mobile`. */
export async function setViewport(page: Page, v: Viewport): Promise<void> {
  await page.setViewport({
    width: v.width,
    height: v.height,
    deviceScaleFactor: 1,
    isMobile: v.mobile,
    hasTouch: v.mobile,
    isLandscape: v.width > v.height,
  });
  // Let layout (and any ResizeObserver) settle on the new size.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

export interface LayoutReport {
  /** The visual viewport's width: wider than the screen when a phone zooms out to fit an overflowing page. */
  innerWidth: number;
  /** The layout viewport's width (the screen's, on a phone). */
  clientWidth: number;
  scrollWidth: number;
  /** Visible elements reaching past the viewport's left or right edge (outside any inner scroller). */
  outside: string[];
  /** Visible touch targets narrower or shorter than the minimum, as "name (w×h)". */
  small: string[];
}

/**
 * Measures the page as it is laid out now: its scroll width, what sticks out sideways, and every visible
 * button, input, select, summary and tab smaller than `minTarget` CSS px either way. A checkbox, radio or visually
 * hidden input counts by its label (the label is what a finger presses); inline text links are exempt.
 */
export function measureLayout(page: Page, minTarget = 44): Promise<LayoutReport> {
  return page.evaluate((min: number) => {
    const visible = (el: Element) => {
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) return false;
      const cs = getComputedStyle(el);
      return cs.visibility !== 'hidden' && cs.display !== 'none' && Number(cs.opacity) > 0;
    };
    const describe = (el: Element): string => {
      const aria = el.getAttribute('aria-label');
      const labelled = (el as HTMLInputElement).labels?.[0]?.textContent;
      const text = aria ?? (labelled || el.textContent || el.getAttribute('title') || el.getAttribute('placeholder'));
      const name = (text ?? '').replace(/\s+/g, ' ').trim().slice(0, 60);
      const id = el.getAttribute('data-testid');
      return `${el.tagName.toLowerCase()}${id ? `[${id}]` : ''} "${name}"`;
    };
    /** Inside an element that scrolls or clips sideways itself (not the page). */
    const inScroller = (el: Element) => {
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        const o = getComputedStyle(p).overflowX;
        if (o !== 'visible') return true;
      }
      return false;
    };
    // The layout viewport: a mobile browser zooms out (widening innerWidth) to show a page that overflows.
    const vw = document.documentElement.clientWidth;
    const out = new Set<Element>();
    for (const el of document.body.querySelectorAll('*')) {
      if (!visible(el) || inScroller(el)) continue;
      const r = el.getBoundingClientRect();
      if (r.right > vw + 0.5 || r.left < -0.5) out.add(el);
    }
    // The innermost ones name the culprit; their ancestors stick out only because of them.
    const outside = [...out]
      .filter((el) => ![...out].some((o) => o !== el && el.contains(o)))
      .map((el) => {
        const r = el.getBoundingClientRect();
        return `${describe(el)} [${Math.round(r.left)}, ${Math.round(r.right)}]`;
      });
    const small: string[] = [];
    const targets = document.querySelectorAll(
      'button, input:not([type=hidden]), select, textarea, summary, [role=button], [role=tab], [role=switch], a.button',
    );
    for (const el of targets) {
      let box: Element = el;
      const input = el as HTMLInputElement;
      const r0 = el.getBoundingClientRect();
      const hidden = el.matches('input') && (r0.width <= 1 || r0.height <= 1);
      if (el.matches('input[type=checkbox], input[type=radio]') || hidden) box = input.labels?.[0] ?? el;
      if (!visible(box)) continue;
      const r = box.getBoundingClientRect();
      if (r.width < min - 0.5 || r.height < min - 0.5)
        small.push(`${describe(el)} (${Math.round(r.width)}×${Math.round(r.height)})`);
    }
    return {
      innerWidth: window.innerWidth,
      clientWidth: vw,
      scrollWidth: document.documentElement.scrollWidth,
      outside,
      small,
    };
  }, minTarget);
}

/**
 * What is wrong with `r` at `v`, one line each: the page scrolls sideways, the phone had to zoom out
 * to show it, an element sticks out, a touch target is too small. Empty when the layout fits.
 */
export function layoutProblems(r: LayoutReport, v: Viewport): string[] {
  const problems: string[] = [];
  if (r.scrollWidth > r.innerWidth) problems.push(`scrolls sideways: scrollWidth ${r.scrollWidth} > ${r.innerWidth}`);
  if (r.innerWidth !== v.width) problems.push(`zoomed out to fit: innerWidth ${r.innerWidth} ≠ ${v.width}`);
  problems.push(...r.outside.map((o) => `sticks out: ${o}`));
  problems.push(...r.small.map((s) => `touch target under 44 px: ${s}`));
  return problems;
}

export interface CameraFit {
  /** The video element's box. */
  width: number;
  height: number;
  /** The picture inside it (object-fit: contain of the camera frame). */
  pictureWidth: number;
  /** The viewport less the page's horizontal padding (the `.app` element's and the body's safe areas). */
  contentWidth: number;
  innerHeight: number;
}

/** How the live camera (`[data-testid=live-video]`) sits on the page. */
export function cameraFit(page: Page): Promise<CameraFit> {
  return page.$eval('[data-testid=live-video]', (el) => {
    const video = el as HTMLVideoElement;
    const r = video.getBoundingClientRect();
    const pad = (e: Element) => {
      const cs = getComputedStyle(e);
      return parseFloat(cs.paddingLeft) + parseFloat(cs.paddingRight);
    };
    const app = document.querySelector('.app');
    const scale = Math.min(r.width / video.videoWidth, r.height / video.videoHeight);
    return {
      width: r.width,
      height: r.height,
      pictureWidth: video.videoWidth ? video.videoWidth * scale : 0,
      contentWidth: window.innerWidth - pad(document.body) - (app ? pad(app) : 0),
      innerHeight: window.innerHeight,
    };
  });
}

/**
 * The camera rule: the video element spans the page's content width (innerWidth less the page
 * padding on both sides); in portrait its picture fills that width too (no side bands), and in
 * landscape the element is no taller than the screen, so the whole picture shows at once.
 */
export function cameraProblems(c: CameraFit, v: Viewport): string[] {
  const problems: string[] = [];
  if (c.width < c.contentWidth - 0.5)
    problems.push(`camera narrower than the page: ${Math.round(c.width)} < ${Math.round(c.contentWidth)}`);
  if (v.height > v.width && c.pictureWidth < c.width - 1)
    problems.push(`camera picture does not fill the width: ${Math.round(c.pictureWidth)} of ${Math.round(c.width)}`);
  if (v.width > v.height && c.height > c.innerHeight)
    problems.push(`camera taller than the screen: ${Math.round(c.height)} > ${c.innerHeight}`);
  return problems;
}
