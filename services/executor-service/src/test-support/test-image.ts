// The tests' step image is the one `npm start` provides: alpine:3, imported from busybox-static
// when no registry can supply it (tools/campaigns-system/src/step-image.ts).
export { STEP_IMAGE as TEST_IMAGE, ensureStepImage as ensureTestImage } from '@campaigns/system';
