// The explanation layer: ambiguity finder, LIME explainer, combination across segmenters.
