// Whether the visitor's last input was a key (rather than a pointer), so the shop can show a focus
// outline only where a keyboard moved the focus, as browsers do for :focus-visible.
import { useEffect, useRef, type RefObject } from 'react';

export function useKeyboardInput(): RefObject<boolean> {
  const keyboard = useRef(false);
  useEffect(() => {
    const byKey = (e: KeyboardEvent) => {
      // A modifier alone (a shortcut being typed) moves no focus.
      if (!['Shift', 'Control', 'Alt', 'Meta'].includes(e.key)) keyboard.current = true;
    };
    const byPointer = () => (keyboard.current = false);
    window.addEventListener('keydown', byKey, true);
    window.addEventListener('pointerdown', byPointer, true);
    return () => {
      window.removeEventListener('keydown', byKey, true);
      window.removeEventListener('pointerdown', byPointer, true);
    };
  }, []);
  return keyboard;
}
