// The parts of Uppy the portal uses, exposed as one global for app/static/js/uploader.js (no CDN, no build at run time).
import Uppy from "@uppy/core";
import AwsS3 from "@uppy/aws-s3";
import StatusBar from "@uppy/status-bar";
import viVN from "@uppy/locales/lib/vi_VN.js";
import enUS from "@uppy/locales/lib/en_US.js";

window.PortalUppy = { Uppy, AwsS3, StatusBar, locales: { vi: viVN, en: enUS } };
