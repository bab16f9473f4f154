// The PEFT mechanism every method plugin shares (no concrete method lives in core): targeting
// modules by name, modules_to_save copies, freezing, the trainable summary, PEFT key names and
// adapter folders in Hugging Face PEFT's layout. Follows peft/tuners/tuners_utils.py and
// peft/utils/save_and_load.py.
export {
  findTargetModules,
  isInsideModules,
  matchesTarget,
  MIN_TARGETS_FOR_CONDENSING,
  minimalTargetModules,
  type FindTargetsOptions,
  type TargetModules,
} from './targeting';
export { describeTrainable, freezeAllExcept, type TrainableSummary } from './trainable';
export { AdapterDict, assertAdapterName, isPeftLayer, setActiveAdapters, withAdaptersDisabled, type PeftLayer } from './peft-layer';
export { TransparentWrapper } from './transparent-wrapper';
export { applyModulesToSave, cloneModule, ModulesToSaveWrapper, type SavedModules } from './modules-to-save';
export { fromPeftKey, PEFT_KEY_PREFIX, toPeftKey } from './peft-keys';
export { adapterStateDictOf, loadAdapterTensors, type LoadAdapterTensorsOptions } from './adapter-state';
export {
  ADAPTER_CONFIG_FILE,
  ADAPTER_WEIGHTS_FILE,
  loadAdapter,
  providerForPeftType,
  readAdapterConfig,
  saveAdapter,
  type LoadedAdapter,
} from './adapter-files';
export {
  baseAdapterConfig,
  modulesToSaveSchema,
  parseAdapterConfigBase,
  targetModulesSchema,
  taskTypeSchema,
  type AdapterConfigBase,
} from './adapter-config';
