import type { ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';

interface Props {
  count: number;
  rowHeight: number;
  /** Renders row i (0 = first). */
  row: (i: number) => ComponentChildren;
  /** Keep the view pinned to the end while the user has not scrolled away (a console). */
  follow?: boolean;
  className?: string;
  testId?: string;
}

/**
 * A list that only renders the rows in view (plus a small margin), so 10,000 entries cost
 * the same as 40. Rows have a fixed height; the spacer gives the scrollbar its true size.
 */
export function VirtualList({ count, rowHeight, row, follow = false, className, testId }: Props) {
  const ref = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(400);
  const pinned = useRef(true);

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    setHeight(el.clientHeight);
    return () => ro.disconnect();
  }, []);

  useLayoutEffect(() => {
    const el = ref.current;
    if (follow && el && pinned.current) {
      el.scrollTop = el.scrollHeight;
      setScrollTop(el.scrollTop);
    }
  }, [count, follow]);

  const onScroll = (): void => {
    const el = ref.current;
    if (!el) return;
    pinned.current = el.scrollTop + el.clientHeight >= el.scrollHeight - rowHeight * 1.5;
    setScrollTop(el.scrollTop);
  };

  const overscan = 8;
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(count, Math.ceil((scrollTop + height) / rowHeight) + overscan);
  const rows = [];
  for (let i = first; i < last; i++) {
    rows.push(
      <div key={i} class="vrow" style={{ top: `${i * rowHeight}px`, height: `${rowHeight}px` }}>
        {row(i)}
      </div>,
    );
  }
  return (
    <div ref={ref} class={`vlist ${className ?? ''}`} onScroll={onScroll} data-testid={testId} data-count={count}>
      <div class="vspacer" style={{ height: `${count * rowHeight}px` }}>
        {rows}
      </div>
    </div>
  );
}
