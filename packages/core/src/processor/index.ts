// Helpers over the model processor (contracts/model.ts ModelProcessor): named towers.
export { expandTowers, towerPatterns, towersOf } from './towers';
export { IMAGE_MARK, imagePromptIds, withImageMark } from './image-prompt';
