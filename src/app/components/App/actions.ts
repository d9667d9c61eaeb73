/** The screens' actions, each a controller method (built once per controller). */
import type { Controller } from '../../controller';
import type { InsightScreenActions } from '../InsightScreen';
import type { LiveViewActions } from '../LiveView';
import type { ModelScreenActions } from '../ModelScreen';
import type { TrainScreenActions } from '../TrainScreen';

export function modelActions(controller: Controller): ModelScreenActions {
  return {
    onDownload: () => void controller.library.downloadDemo(),
    onCancelDownload: () => controller.library.cancelDownload(),
    onGetWeights: () => void controller.library.getImageNetWeights(),
    onWeightsUrl: (url, sha256) => controller.library.setWeightsUrl(url, sha256),
    onImportUrl: (url, sha256) => void controller.library.importUrl(url, sha256),
    onDownloadServed: (model) => void controller.library.downloadServed(model),
    onUse: (id) => void controller.library.useModel(id),
    onVerify: (id) => void controller.library.verifyModel(id),
    onDelete: (id) => void controller.library.deleteModel(id),
    onCancelDelete: () => controller.library.cancelDelete(),
    onImport: (file) => void controller.library.importFile(file),
  };
}

export function liveActions(controller: Controller): LiveViewActions {
  return {
    onVideo: (video) => controller.attachVideo(video),
    onVideoSize: (w, h) => controller.videoSize(w, h),
    onRetryCamera: () => controller.retryCamera(),
    onChoose: (choice) => controller.choose(choice),
    onOpacity: (opacity) => controller.setOpacity(opacity),
    onTogglePause: () => controller.togglePause(),
    onSwitchCamera: () => controller.switchCamera(),
    onSave: () => void controller.saveOverlay(),
    onClassifier: (id) => void controller.train.classifiers.use(id),
  };
}

export function trainActions(controller: Controller): TrainScreenActions {
  const t = controller.train;
  return {
    onVideo: (video) => controller.attachVideo(video),
    onVideoSize: (w, h) => controller.videoSize(w, h),
    onRetryCamera: () => controller.retryCamera(),
    onAddClass: (name, colour) => void t.addClass(name, colour),
    onRemoveClass: (id) => void t.removeClass(id),
    onCancelRemoveClass: () => t.cancelRemove(),
    onSelectClass: (id) => t.selectClass(id),
    onCapture: () => void t.capture(),
    onBurstStart: () => void t.startBurst(),
    onBurstStop: () => t.stopBurst(),
    onFiles: (files) => void t.addFiles(files),
    onDeletePhoto: (id) => void t.deletePhoto(id),
    onSettings: (settings) => t.setSettings(settings),
    onTrain: () => void t.runs.train(),
    onResume: () => void t.runs.resume(),
    onCancel: () => void t.runs.cancel(),
    onUseClassifier: (id) => void t.classifiers.use(id),
    onExportClassifier: (id) => void t.classifiers.export(id),
    onDeleteClassifier: (id) => void t.classifiers.delete(id),
    onImportClassifier: (file) => void t.classifiers.import(file),
  };
}

export function insightActions(controller: Controller): InsightScreenActions {
  const i = controller.insight;
  return {
    onVideo: (video) => controller.attachVideo(video),
    onVideoSize: (w, h) => controller.videoSize(w, h),
    onTab: (tab) => i.setTab(tab),
    explorer: {
      onLayer: (layer) => i.setExplorerLayer(layer),
      onNorm: (norm) => i.setNorm(norm),
      onPage: (page) => i.setPage(page),
      onEnlarge: (channel) => i.enlarge(channel),
      onFollow: (follow) => i.setFollow(follow),
      onRefresh: () => void i.activations(),
    },
    gallery: {
      onLayer: (layer) => i.setGalleryLayer(layer),
      onCount: (count) => i.setGalleryCount(count),
      onSettings: (settings) => i.setGallerySettings(settings),
      onShow: () => void i.showFilters(),
      onCancel: () => i.cancelFilters(),
    },
    cam: {
      onMethod: (method) => i.setCamMethod(method),
      onLayer: (layer) => i.setCamLayer(layer),
      onExplain: () => void i.explain(true),
      onFaithfulness: () => void i.faithfulness(),
    },
  };
}
